// deno-lint-ignore-file no-console -- a benchmark script reports on stdout
/**
 * Renders a run report in headless Chromium and checks the screenshot shows it (issue 4, "Done when").
 *
 *   deno run -A bench/report_screenshot.ts [--run runs/<id>] [--out report.png] [--height 2400]
 *
 * Without `--run` it writes a synthetic run (40 episodes, two score layers) to a temporary folder. It
 * prints the PNG's path and size, the share of coloured (plot) pixels, and any console errors.
 */
import { join } from "node:path";
import { writeReport } from "../report/run_report.ts";
import {
  syntheticRun,
  writeSyntheticRun,
} from "../tests/fixtures/report_fixture.ts";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";
/** How to get it, for error messages. */
export const CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium";

/** What a headless Chromium screenshot of a page showed. */
export interface ChromiumResult {
  readonly png: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  /** Share of pixels that are saturated colour: plot bars, boxes and points (text and rules are grey). */
  readonly colour_share: number;
  /** Share of pixels that are not near-white. */
  readonly ink_share: number;
  /** Console errors, uncaught exceptions and failed loads Chromium logged. */
  readonly console_errors: readonly string[];
  readonly exit_code: number;
}

/**
 * Opens `htmlPath` in headless Chromium, saves a screenshot to `pngPath`, and measures it. Throws when
 * Chromium is missing (with the install command) or writes no PNG.
 */
export async function chromiumScreenshot(
  htmlPath: string,
  pngPath: string,
  options: {
    readonly width?: number;
    readonly height?: number;
    readonly timeoutMs?: number;
  } = {},
): Promise<ChromiumResult> {
  const exists = await Deno.stat(CHROMIUM).then(() => true, () => false);
  if (!exists) {
    throw new Error(
      `Cannot take a screenshot with ${CHROMIUM}: it is not installed (run: ${CHROMIUM_INSTALL})`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "mappa-chromium-" });
  try {
    const out = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        `--user-data-dir=${profile}`,
        `--screenshot=${pngPath}`,
        `--window-size=${options.width ?? 1280},${options.height ?? 2400}`,
        `file://${htmlPath}`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 90_000),
    }).output();
    const log = new TextDecoder().decode(out.stderr) +
      new TextDecoder().decode(out.stdout);
    const consoleErrors = log.split("\n").filter((l) =>
      /Uncaught|:CONSOLE\(|net::ERR_|Failed to load resource/.test(l)
    );
    const bytes = await Deno.readFile(pngPath).catch(() => null);
    if (bytes === null) {
      throw new Error(
        `Cannot take a screenshot of ${htmlPath}: chromium exited ${out.code} without writing ${pngPath}\n${
          log.slice(-2000)
        }`,
      );
    }
    return {
      png: pngPath,
      bytes: bytes.length,
      ...await measurePng(bytes),
      console_errors: consoleErrors,
      exit_code: out.code,
    };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** Decodes an 8-bit RGB/RGBA PNG (what Chromium writes) and measures how much of it is ink and colour. */
async function measurePng(
  png: Uint8Array,
): Promise<
  { width: number; height: number; colour_share: number; ink_share: number }
> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => png[i] === b)) {
    throw new Error("Cannot read the screenshot: it is not a PNG");
  }
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  for (let off = 8; off < png.length;) {
    const len = view.getUint32(off);
    const type = new TextDecoder().decode(png.subarray(off + 4, off + 8));
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      if (data[8] !== 8 || (data[9] !== 2 && data[9] !== 6)) {
        throw new Error(
          `Cannot read the screenshot: bit depth ${data[8]}, colour type ${
            data[9]
          } is not 8-bit RGB(A)`,
        );
      }
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = new Uint8Array(
    await new Response(
      new Blob(idat as BlobPart[]).stream().pipeThrough(
        new DecompressionStream("deflate"),
      ),
    ).arrayBuffer(),
  );
  const stride = width * channels;
  let prev = new Uint8Array(stride);
  let ink = 0, colour = 0;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.slice(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels]! : 0,
        b = prev[x]!,
        c = x >= channels ? prev[x - channels]! : 0;
      const p = a + b - c,
        pa = Math.abs(p - a),
        pb = Math.abs(p - b),
        pc = Math.abs(p - c);
      const pred = [
        0,
        a,
        b,
        (a + b) >> 1,
        pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
      ][filter] ?? 0;
      line[x] = (line[x]! + pred) & 255;
    }
    for (let x = 0; x < stride; x += channels) {
      const r = line[x]!, g = line[x + 1]!, bl = line[x + 2]!;
      if (Math.min(r, g, bl) < 235) ink++;
      if (Math.max(r, g, bl) - Math.min(r, g, bl) > 60) colour++;
    }
    prev = line;
  }
  return {
    width,
    height,
    colour_share: colour / (width * height),
    ink_share: ink / (width * height),
  };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const given = arg("--run");
  const dir = given ?? await Deno.makeTempDir({ prefix: "mappa-report-" });
  if (given === undefined) await writeSyntheticRun(dir, syntheticRun());
  const html = await writeReport(dir, { bias: true });
  const png = arg("--out") ?? join(dir, "report.png");
  const r = await chromiumScreenshot(await Deno.realPath(html), png, {
    height: Number(arg("--height") ?? 2400),
  });
  console.log(`report ${html} (${(await Deno.stat(html)).size} bytes)`);
  console.log(
    `screenshot ${r.png}: ${r.width}x${r.height}, ${r.bytes} bytes, ink ${
      (r.ink_share * 100).toFixed(1)
    }%, colour ${(r.colour_share * 100).toFixed(1)}%`,
  );
  console.log(
    `console errors: ${
      r.console_errors.length === 0
        ? "none"
        : `\n${r.console_errors.join("\n")}`
    }`,
  );
  if (
    r.console_errors.length > 0 || r.colour_share < 0.005 || r.bytes < 20_000
  ) Deno.exit(1);
}
