// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)

/**
 * Ctrl-C (or SIGTERM) aborts the returned signal once, saying `what`; a second one quits at once.
 * Dispose of the result to remove the listeners.
 */
export function interruptible(what: string): AbortSignal & Disposable {
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts > 1) Deno.exit(130);
    console.error(`\nmappa: stopping: ${what} (Ctrl-C again to quit now)`);
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onInterrupt);
  return Object.assign(controller.signal, {
    [Symbol.dispose]() {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      Deno.removeSignalListener("SIGTERM", onInterrupt);
    },
  });
}
