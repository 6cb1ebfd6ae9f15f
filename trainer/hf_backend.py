"""The `hf` backend: transformers + peft on a GPU (reference/trainer-protocol.md §6, "GPU backend").

One frozen base `AutoModelForCausalLM` (bf16 by default) carries one named PEFT LoRA adapter per
policy. A new adapter has B = 0, so version 0 of a policy equals the base. The reference policy is
the same network under `PeftModel.disable_adapter()`: there is no second copy of the weights.

- Logprobs are `log_softmax(logits.float())` gathered at the next token, shape [B, L-1], float32.
- Generation is batched (batching.py, hf_batch.py): concurrent requests of one policy are prefilled
  together, left-padded with explicit position ids, and decoded with the KV cache; each returned logprob
  is of the sampled id under the distribution sampled from (after temperature, top-k and top-p), computed
  with the same `log_softmax(float32)` as `token_logprobs` (sampling.py). Only the bf16 numerics of
  cached, padded vs. uncached attention differ (`gpu_check.py` reports the gap).
- Adapter parameters are kept in float32 whatever the base dtype; the optimizer sees only them.
- `prepare_optimizer` and `backward` go through one `accelerate.Accelerator`, so the same code runs
  under `accelerate launch`; with several processes train.py sums the active policy's LoRA gradients
  across ranks once per minibatch (distributed.py; the model itself is not wrapped in DDP, because only
  one of several adapters is trained at a time).
- The backend is not thread-safe: the service must serialize calls (a policy's forward and its
  backward must not be interleaved with another policy's calls, since gradient checkpointing
  recomputes the forward during backward with the adapter active at that moment).

`base_model` is a local HF directory, a Hub id (from the HF cache, or downloaded where there is a network),
or `random:<arch>[,key=value...]` for a randomly initialised
model built in code with a byte-level tokenizer and a ChatML template (no download), e.g.
`random:qwen2-tiny` or `random:qwen2-tiny,hidden=1024,layers=8` (keys: hidden, layers, heads,
kv_heads, intermediate; arch: qwen2-tiny or llama-tiny).

transformers, peft and accelerate are imported lazily, so this module imports without them.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import random
import shutil
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from .backend import AdapterConfig, BackendInfo, Generation, Sampling
from .batching import generate_once
from .hf_batch import HFBatch
from .sampling import in_vocab

DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

CHATML_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# ChatML, as Qwen2 uses it. HF renders templates with trim_blocks and lstrip_blocks; no block tag below
# is followed by a newline, so every "\n" is literal output.
CHATML_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n"
    "{% if messages and messages[0]['role'] == 'system' %}{{ messages[0]['content'] or '' }}\n\n{% endif %}"
    "# Tools\n"
    "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}"
    "<|im_end|>\n"
    "{% endif %}"
    "{% for message in messages %}"
    "{% if not (tools and loop.first and message['role'] == 'system') %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] or '' }}"
    "{% if message['tool_calls'] %}{% for call in message['tool_calls'] %}{{ '\\n' }}<tool_call>{{ call | tojson }}</tool_call>{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _require_hf() -> Tuple[Any, Any, Any]:
    """Imports transformers, peft and accelerate, or raises one ImportError saying what is missing."""
    missing = []
    mods = []
    for name in ("transformers", "peft", "accelerate"):
        try:
            mods.append(__import__(name))
        except Exception as e:  # ImportError, or a broken install raising something else
            missing.append(f"{name} ({type(e).__name__}: {e})")
    if missing:
        raise ImportError(
            "the hf backend needs transformers>=4.40, peft>=0.10 and accelerate; missing or broken: "
            + "; ".join(missing)
            + ". Install them, or use the tiny backend (--backend tiny)."
        )
    return mods[0], mods[1], mods[2]


def _version_tuple(v: str) -> Tuple[int, ...]:
    out = []
    for part in v.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def _torch_dtype(dtype: str) -> torch.dtype:
    table = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float32": torch.float32, "fp32": torch.float32,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype not in table:
        raise ValueError(f"dtype is {dtype!r}; use 'bfloat16' or 'float32' (or 'float16')")
    return table[dtype]


# ---------------------------------------------------------------------------------------------------
# Tokenizer


class HFTokenizer:
    """A real HF tokenizer behind the `Tokenizer` protocol; the chat template is the tokenizer's own."""

    def __init__(self, hf: Any, extra_eos_ids: Sequence[int] = ()) -> None:
        self.hf = hf
        template = getattr(hf, "chat_template", None)
        if isinstance(template, dict):  # several named templates: the protocol renders with the default one
            template = template.get("default")
        if not template or not isinstance(template, str):
            raise ValueError(
                "the tokenizer has no chat_template; use an instruct/chat model directory whose "
                "tokenizer_config.json (or chat_template.jinja) defines one"
            )
        self.chat_template = template
        self.chat_template_sha256 = hashlib.sha256(template.encode("utf-8")).hexdigest()
        self.vocab_size = len(hf)
        vocab = hf.get_vocab()
        eos: List[int] = []

        def add(i: Any) -> None:
            if isinstance(i, int) and i >= 0 and i not in eos:
                eos.append(i)

        e = getattr(hf, "eos_token_id", None)
        for i in e if isinstance(e, (list, tuple)) else [e]:
            add(i)
        for i in extra_eos_ids:
            add(i)
        for tok in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>"):
            if tok in vocab:
                add(vocab[tok])
        if not eos:
            raise ValueError("the tokenizer defines no eos token; set eos_token in tokenizer_config.json")
        self.eos_token_ids = eos
        pad = getattr(hf, "pad_token_id", None)
        self.pad_token_id = int(pad) if isinstance(pad, int) else eos[0]
        bos = getattr(hf, "bos_token_id", None)
        self.bos_token_id = int(bos) if isinstance(bos, int) else None

    def encode(self, text: str) -> List[int]:
        return list(self.hf.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=True)

    def token_str(self, i: int) -> str:
        return self.hf.decode([int(i)], skip_special_tokens=False)

    def render(
        self,
        messages: Sequence[Dict[str, Any]],
        tools: Optional[Sequence[Dict[str, Any]]] = None,
        add_generation_prompt: bool = True,
    ) -> List[int]:
        kwargs: Dict[str, Any] = {"add_generation_prompt": add_generation_prompt, "tokenize": True}
        if tools:
            kwargs["tools"] = list(tools)
        try:
            out = self.hf.apply_chat_template(list(messages), **kwargs)
        except TypeError as e:
            if tools:
                raise ValueError(f"this transformers version's apply_chat_template does not take tools= ({e}); "
                                 "use transformers>=4.42") from e
            raise
        # transformers 4.x returns a list of ids; 5.x may return a BatchEncoding (return_dict=True by default).
        if hasattr(out, "keys") and "input_ids" in out:
            out = out["input_ids"]
        if hasattr(out, "tolist"):
            out = out.tolist()
        if out and isinstance(out[0], (list, tuple)):
            out = out[0]
        return [int(i) for i in out]


def build_chatml_byte_tokenizer() -> Any:
    """A `PreTrainedTokenizerFast` made in code: 256 byte-level tokens, then <|endoftext|> <|im_start|> <|im_end|>.

    No training and no download: a byte-level BPE with an empty merge list, so every byte is one token.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers  # ships with transformers
    import transformers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    if len(alphabet) != 256:
        raise RuntimeError(f"tokenizers ByteLevel.alphabet() has {len(alphabet)} symbols, expected 256")
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(CHATML_SPECIALS))
    fast_cls = getattr(transformers, "PreTrainedTokenizerFast")
    # <|im_start|> is special in the tokenizers object already (skipped by decode(skip_special_tokens=True)).
    kwargs = dict(eos_token="<|im_end|>", pad_token="<|endoftext|>", clean_up_tokenization_spaces=False)
    try:
        hf = fast_cls(tokenizer_object=tok, **kwargs)
    except Exception as e:
        # Fallback: go through a tokenizer.json file.
        print(f"[hf_backend] PreTrainedTokenizerFast(tokenizer_object=...) failed ({type(e).__name__}: {e}); "
              "retrying with tokenizer_file=")
        d = tempfile.mkdtemp(prefix="mappa-tok-")
        path = os.path.join(d, "tokenizer.json")
        tok.save(path)
        hf = fast_cls(tokenizer_file=path, **kwargs)
    hf.chat_template = CHATML_TEMPLATE
    ids = [hf.convert_tokens_to_ids(t) for t in CHATML_SPECIALS]
    if ids != [256, 257, 258]:
        raise RuntimeError(f"special token ids are {ids}, expected [256, 257, 258]")
    return hf


def parse_random_spec(spec: str) -> Dict[str, Any]:
    """`random:qwen2-tiny[,hidden=H][,layers=N][,heads=N][,kv_heads=N][,intermediate=N]` → settings dict."""
    if not spec.startswith("random:"):
        raise ValueError(f"{spec!r} is not a random: model name")
    parts = spec[len("random:"):].split(",")
    arch = parts[0].strip()
    if arch not in ("qwen2-tiny", "llama-tiny"):
        raise ValueError(f"random model {arch!r} is unknown; use random:qwen2-tiny or random:llama-tiny")
    cfg: Dict[str, Any] = {"arch": arch, "hidden": 256, "layers": 4}
    for p in parts[1:]:
        if not p.strip():
            continue
        if "=" not in p:
            raise ValueError(f"{spec!r}: '{p}' is not key=value (keys: hidden, layers, heads, kv_heads, intermediate)")
        k, v = (s.strip() for s in p.split("=", 1))
        if k not in ("hidden", "layers", "heads", "kv_heads", "intermediate"):
            raise ValueError(f"{spec!r}: unknown key {k!r}; use hidden, layers, heads, kv_heads, intermediate")
        cfg[k] = int(v)
    hidden = cfg["hidden"]
    cfg.setdefault("heads", 4 if hidden == 256 else max(1, hidden // 64))
    cfg.setdefault("kv_heads", max(1, cfg["heads"] // 2))
    cfg.setdefault("intermediate", 688 if hidden == 256 else int(round(hidden * 8 / 3 / 16)) * 16)
    if hidden % cfg["heads"] or cfg["heads"] % cfg["kv_heads"]:
        raise ValueError(f"{spec!r}: hidden ({hidden}) must divide by heads ({cfg['heads']}), "
                         f"and heads by kv_heads ({cfg['kv_heads']})")
    return cfg


def build_random_base(spec: str, seed: int = 0, max_position_embeddings: int = 4096) -> Tuple[Any, Any]:
    """(model in float32 on CPU, HF tokenizer) for a `random:` spec; the same spec and seed give the same weights."""
    transformers, _, _ = _require_hf()
    cfg = parse_random_spec(spec)
    tok = build_chatml_byte_tokenizer()
    common = dict(
        vocab_size=len(tok),
        hidden_size=cfg["hidden"],
        intermediate_size=cfg["intermediate"],
        num_hidden_layers=cfg["layers"],
        num_attention_heads=cfg["heads"],
        num_key_value_heads=cfg["kv_heads"],
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    config = None
    if cfg["arch"] == "qwen2-tiny":
        try:
            config = transformers.Qwen2Config(**common)
        except Exception as e:  # very old transformers without Qwen2: fall back to Llama
            print(f"[hf_backend] Qwen2Config unavailable ({type(e).__name__}: {e}); using LlamaConfig")
    if config is None:
        config = transformers.LlamaConfig(**common)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.AutoModelForCausalLM.from_config(config)
    model.config._name_or_path = spec
    return model.float(), tok


# ---------------------------------------------------------------------------------------------------
# Backend


class HFBackend:
    """transformers + peft: a frozen base with one LoRA adapter per policy (see the module docstring)."""

    name = "hf-peft"
    thread_safe = False
    """The service serializes every call (one compute lock), see the module docstring."""

    def __init__(
        self,
        base_model: str,
        *,
        device: str = "cuda",
        dtype: str = "bfloat16",
        seed: int = 0,
        gradient_checkpointing: bool = True,
        max_context: int = 4096,
    ) -> None:
        transformers, peft, accelerate = _require_hf()
        self._transformers, self._peft = transformers, peft
        self.base_model = base_model
        self.dtype = _torch_dtype(dtype)
        self.seed = seed
        self.gradient_checkpointing = gradient_checkpointing

        random.seed(seed)
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)

        want_cpu = device == "cpu"
        if not want_cpu and not torch.cuda.is_available():
            raise ValueError(f"device is {device!r} but torch.cuda.is_available() is False; pass device='cpu' "
                             "(with dtype='float32') or run on a GPU machine")
        self.accelerator = accelerate.Accelerator(cpu=want_cpu)
        if self.accelerator.num_processes > 1 or device == "cuda":
            dev = self.accelerator.device
        else:
            dev = torch.device(device)
        if dev.type == "cuda" and dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
        self._dev = dev
        self.device = str(dev)

        if base_model.startswith("random:"):
            model, hf_tok = build_random_base(base_model, seed, max_position_embeddings=max(max_context, 4096))
        else:
            # A local directory, or a Hub id found in the Hugging Face cache (or downloaded where there is a network).
            dkey = "dtype" if _version_tuple(transformers.__version__) >= (4, 56) else "torch_dtype"
            try:
                hf_tok = transformers.AutoTokenizer.from_pretrained(base_model)
                # transformers >= 4.56 names the argument `dtype`; older versions `torch_dtype`.
                model = transformers.AutoModelForCausalLM.from_pretrained(base_model, **{dkey: self.dtype})
            except OSError as e:
                where = "a local directory" if os.path.isdir(base_model) else "a Hub id (not a local directory)"
                raise ValueError(f"cannot load base_model {base_model!r}, {where}: {e}; pass a directory with "
                                 "config.json, weights and tokenizer files, a Hub id that is cached or reachable, "
                                 "or random:qwen2-tiny") from None
        model = model.to(device=dev, dtype=self.dtype)
        model.requires_grad_(False)
        # No dropout anywhere: train mode (needed for gradient checkpointing) must compute what eval mode does,
        # so that logp recomputed with grad equals logp_old (ρ ≡ 1 in the first minibatch).
        for attr in ("attention_dropout", "hidden_dropout", "dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop"):
            if isinstance(getattr(model.config, attr, None), float):
                setattr(model.config, attr, 0.0)
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        model.eval()
        if gradient_checkpointing:
            try:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            except TypeError:  # transformers < 4.35: reentrant checkpointing needs inputs that require grad
                model.gradient_checkpointing_enable()
            if hasattr(model, "enable_input_require_grads"):
                model.enable_input_require_grads()
        self._base = model
        self.model: Any = None  # the PeftModel, created with the first policy
        mpe = getattr(model.config, "max_position_embeddings", None)
        self.max_context = min(max_context, mpe) if isinstance(mpe, int) and mpe > 0 else max_context
        self.model_vocab_size = int(model.get_input_embeddings().weight.shape[0])

        gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        extra = gen_eos if isinstance(gen_eos, (list, tuple)) else ([gen_eos] if isinstance(gen_eos, int) else [])
        self.tokenizer = HFTokenizer(hf_tok, extra_eos_ids=extra)
        if self.tokenizer.vocab_size > self.model_vocab_size:
            raise ValueError(f"tokenizer has {self.tokenizer.vocab_size} tokens but the model's embedding only "
                             f"{self.model_vocab_size}; tokenizer and model do not match")

        self._linear_names = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                                     if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] != "lm_head"})
        self._adapters: Dict[str, str] = {}  # policy_id -> PEFT adapter name
        self._params: Dict[str, List[Tuple[str, torch.nn.Parameter]]] = {}  # policy_id -> [(PEFT key, param)]
        self._active: Optional[str] = None
        self._last_train_policy: Optional[str] = None
        # Prefill computes only the last position's logits where the model accepts `logits_to_keep` (>= 4.50)
        # or `num_logits_to_keep` (4.45-4.49); older versions compute all of them.
        params = inspect.signature(type(model).forward).parameters
        self._keep_kw = "logits_to_keep" if "logits_to_keep" in params else (
            "num_logits_to_keep" if "num_logits_to_keep" in params else None)

    # -- policies ---------------------------------------------------------------------------------

    def create_policy(self, policy_id: str, adapter: AdapterConfig) -> None:
        peft = self._peft
        if policy_id in self._adapters:
            raise ValueError(f"policy {policy_id!r} exists already")
        r, alpha, targets = adapter.r, adapter.alpha, list(adapter.target_modules)
        init_state = None
        if adapter.init_from:
            init_cfg, init_state = _read_peft_dir(adapter.init_from)
            r, alpha = int(init_cfg.get("r", r)), float(init_cfg.get("lora_alpha", alpha))
            tm = init_cfg.get("target_modules")
            targets = [tm] if isinstance(tm, str) else list(tm or targets)
        if targets:
            absent = [t for t in targets if t not in self._linear_names]
            if absent:
                raise ValueError(f"target_modules {absent} are not linear layers of {self.base_model}; "
                                 f"choose among {self._linear_names}")
        else:
            targets = [t for t in DEFAULT_TARGET_MODULES if t in self._linear_names]
            if not targets:
                raise ValueError(f"none of the default target modules {list(DEFAULT_TARGET_MODULES)} exist in "
                                 f"{self.base_model}; pass adapter.target_modules among {self._linear_names}")
        lora_alpha: Any = int(alpha) if float(alpha).is_integer() else float(alpha)
        cfg = peft.LoraConfig(r=int(r), lora_alpha=lora_alpha, target_modules=targets, lora_dropout=0.0,
                              bias="none", task_type="CAUSAL_LM")
        name = f"mappa_{len(self._adapters)}"
        if self.model is None:
            self.model = peft.get_peft_model(self._base, cfg, adapter_name=name)
        else:
            self.model.add_adapter(name, cfg)
        self._adapters[policy_id] = name
        marker = f".{name}."
        named = [(n.replace(f".{name}", ""), p) for n, p in self.model.named_parameters() if marker in n]
        if not named:
            raise RuntimeError(f"peft added adapter {name!r} but no parameter name contains {marker!r}")
        for _, p in named:  # fp32 adapters whatever the base dtype (peft's autocast_adapter_dtype does the same)
            if p.dtype != torch.float32:
                p.data = p.data.float()
        self._params[policy_id] = named
        zero_b = all(float(p.detach().abs().max()) == 0.0 for k, p in named if ".lora_B." in k)
        if not zero_b:
            raise RuntimeError("peft initialised lora_B to non-zero values; a new policy must equal the base")
        self._active = None
        self._activate(policy_id)
        if init_state is not None:
            self.load_adapter_state(policy_id, init_state)

    def has_policy(self, policy_id: str) -> bool:
        return policy_id in self._adapters

    def trainable_parameters(self, policy_id: str) -> List[Any]:
        self._check(policy_id)
        return [p for _, p in self._params[policy_id]]

    def _check(self, policy_id: str) -> None:
        if policy_id not in self._adapters:
            raise ValueError(f"unknown policy {policy_id!r}; known: {sorted(self._adapters)}")

    def _activate(self, policy_id: str) -> None:
        """Makes `policy_id` the active adapter; only its parameters require grad."""
        self._check(policy_id)
        if self._active != policy_id:
            self.model.set_adapter(self._adapters[policy_id])
            self._active = policy_id
        for pid, named in self._params.items():
            flag = pid == policy_id
            for _, p in named:
                if p.requires_grad != flag:
                    p.requires_grad_(flag)

    @contextlib.contextmanager
    def _reference(self) -> Iterator[None]:
        if self.model is None:
            yield
        else:
            with self.model.disable_adapter():
                yield

    def _net(self) -> Any:
        return self.model if self.model is not None else self._base

    # -- logprobs ----------------------------------------------------------------------------------

    def token_logprobs(self, policy_id: Optional[str], input_ids: Any, attention_mask: Any) -> Any:
        return self._token_logprobs(policy_id, input_ids, attention_mask, False)

    def token_logprobs_entropy(self, policy_id: Optional[str], input_ids: Any, attention_mask: Any) -> Any:
        """(`token_logprobs`, the entropy of each position's next-token distribution), both [B, L-1]."""
        return self._token_logprobs(policy_id, input_ids, attention_mask, True)

    def _token_logprobs(self, policy_id: Optional[str], input_ids: Any, attention_mask: Any, entropy: bool) -> Any:
        input_ids = torch.as_tensor(input_ids, dtype=torch.long).to(self._dev)
        attention_mask = torch.as_tensor(attention_mask, dtype=torch.long).to(self._dev)
        if input_ids.dim() != 2 or input_ids.shape != attention_mask.shape or input_ids.size(1) < 2:
            raise ValueError(f"input_ids {tuple(input_ids.shape)} and attention_mask {tuple(attention_mask.shape)} "
                             "must both be [B, L] with L >= 2")
        if input_ids.size(1) > self.max_context:
            raise ValueError(f"sequence length {input_ids.size(1)} exceeds max_context {self.max_context}")
        lo, hi = int(input_ids.min()), int(input_ids.max())
        if lo < 0 or hi >= self.model_vocab_size:
            raise ValueError(f"token ids span [{lo}, {hi}], outside the model vocabulary [0, {self.model_vocab_size})")
        if policy_id is None:  # the reference never needs grad
            with torch.no_grad(), self._reference():
                self._net().eval()
                logits = self._forward(input_ids, attention_mask)
        else:
            self._activate(policy_id)
            training = torch.is_grad_enabled()
            self.model.train(training)  # gradient checkpointing is only active in train mode
            if training:
                self._last_train_policy = policy_id
            try:
                logits = self._forward(input_ids, attention_mask)
            finally:
                self.model.eval()
        return _gather_logprobs(logits, input_ids, self.tokenizer.vocab_size, entropy)

    def _forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self._net()(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.logits

    # -- generation --------------------------------------------------------------------------------

    def open_batch(self, policy_id: Optional[str]) -> HFBatch:
        """A dynamic batch of rows generated by `policy_id` (None: the base), driven by batching.py."""
        if policy_id is not None:
            self._check(policy_id)
        return HFBatch(self, policy_id)

    def generate(self, policy_id: str, prompt_ids: Sequence[int], sampling: Sampling, n: int = 1) -> List[Generation]:
        prompt = [int(i) for i in prompt_ids]
        if not prompt:
            raise ValueError("prompt_ids is empty")
        if n < 1:
            raise ValueError(f"n is {n}; it must be >= 1")
        if min(prompt) < 0 or max(prompt) >= self.model_vocab_size:
            raise ValueError(f"prompt ids outside the model vocabulary [0, {self.model_vocab_size})")
        if self.max_context - len(prompt) <= 0:
            raise ValueError(f"prompt of {len(prompt)} tokens leaves no room in max_context {self.max_context}")
        self._check(policy_id)
        return generate_once(self, policy_id, prompt, sampling, n)

    # -- adapters ----------------------------------------------------------------------------------

    def adapter_state(self, policy_id: str) -> Dict[str, Any]:
        self._check(policy_id)
        return {k: p.detach().to("cpu", copy=True).contiguous() for k, p in self._params[policy_id]}

    def load_adapter_state(self, policy_id: str, state: Dict[str, Any]) -> None:
        self._check(policy_id)
        own = dict(self._params[policy_id])
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"adapter state of {policy_id!r} does not match: missing {missing[:3]}"
                             f"{'…' if len(missing) > 3 else ''} ({len(missing)}), unexpected {unexpected[:3]}"
                             f"{'…' if len(unexpected) > 3 else ''} ({len(unexpected)})")
        with torch.no_grad():
            for k, p in own.items():
                t = torch.as_tensor(state[k])
                if tuple(t.shape) != tuple(p.shape):
                    raise ValueError(f"{k}: shape {tuple(t.shape)} in the state, {tuple(p.shape)} in the policy")
                p.copy_(t.to(device=p.device, dtype=p.dtype))

    def peft_config(self, policy_id: str) -> Dict[str, Any]:
        self._check(policy_id)
        cfg = self.model.peft_config[self._adapters[policy_id]]
        d = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(vars(cfg))
        d = json.loads(json.dumps(d, default=_jsonable))
        if isinstance(d.get("target_modules"), list):
            d["target_modules"] = sorted(d["target_modules"])
        d["base_model_name_or_path"] = self.base_model
        d["inference_mode"] = True
        return d

    def export_adapter(self, policy_id: str, out_dir: str) -> str:
        """Writes the policy's adapter as a PEFT directory with `PeftModel.save_pretrained`; returns out_dir.

        Not part of the Backend protocol: the service's store writes adapters from `adapter_state` and
        `peft_config`. This is PEFT's own writer, used by gpu_check.py to check the two agree.
        """
        self._check(policy_id)
        name = self._adapters[policy_id]
        os.makedirs(out_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".export-", dir=out_dir)
        try:
            try:  # save_embedding_layers=False: "auto" may look up the base model on the Hub
                self.model.save_pretrained(tmp, selected_adapters=[name], save_embedding_layers=False)
            except TypeError:  # peft < 0.7
                self.model.save_pretrained(tmp, selected_adapters=[name])
            src = os.path.join(tmp, name) if os.path.isdir(os.path.join(tmp, name)) else tmp
            for f in os.listdir(src):
                if f.startswith(".export-"):
                    continue
                dst = os.path.join(out_dir, f)
                if os.path.isdir(dst):
                    shutil.rmtree(dst)
                shutil.move(os.path.join(src, f), dst)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.exists(os.path.join(out_dir, "adapter_config.json")):
            raise RuntimeError(f"save_pretrained wrote no adapter_config.json under {out_dir}")
        return out_dir

    # -- optimization ------------------------------------------------------------------------------

    def prepare_optimizer(self, optimizer: Any) -> Any:
        return self.accelerator.prepare(optimizer)

    def backward(self, loss: Any) -> None:
        policy = self._last_train_policy
        if policy is not None:
            self._activate(policy)  # checkpointed layers recompute their forward with the active adapter
            self.model.train(True)
        try:
            self.accelerator.backward(loss)
        finally:
            if self.model is not None:
                self.model.eval()

    def info(self) -> BackendInfo:
        import accelerate
        import peft
        import transformers

        return BackendInfo(name=self.name, base_model=self.base_model, extra={
            "device": self.device, "dtype": str(self.dtype).replace("torch.", ""),
            "gradient_checkpointing": self.gradient_checkpointing, "max_context": self.max_context,
            "num_processes": self.accelerator.num_processes, "logprobs": "processed",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__, "accelerate": accelerate.__version__},
        })


# ---------------------------------------------------------------------------------------------------
# helpers


def _gather_logprobs(logits: torch.Tensor, input_ids: torch.Tensor, limit: int, entropy: bool = False) -> Any:
    """log_softmax(float32 logits)[t] gathered at input_ids[t+1]; one row at a time to bound fp32 memory.
    Logits of ids >= `limit` (embedding rows past the tokenizer, padding) are -inf, as in `_sample`.
    With `entropy`, also the entropy of each position's distribution (no grad): (logprobs, entropy)."""
    target = input_ids[:, 1:]
    rows, ents = [], []
    for b in range(input_ids.size(0)):
        lp = torch.log_softmax(_in_vocab(logits[b, :-1].float(), limit), dim=-1)
        rows.append(lp.gather(-1, target[b].unsqueeze(-1)).squeeze(-1))
        if entropy:
            with torch.no_grad():
                ents.append(-(lp.exp() * lp.masked_fill(~torch.isfinite(lp), 0.0)).sum(-1))
    return (torch.stack(rows), torch.stack(ents)) if entropy else torch.stack(rows)


_in_vocab = in_vocab


def _jsonable(o: Any) -> Any:
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if hasattr(o, "value"):  # enums (PeftType, TaskType)
        return o.value
    return str(o)


def _read_peft_dir(path: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(adapter_config.json, state dict) of a PEFT adapter directory (safetensors or .bin)."""
    cfg_path = os.path.join(path, "adapter_config.json")
    if not os.path.isfile(cfg_path):
        raise ValueError(f"init_from {path!r} has no adapter_config.json; pass a PEFT adapter directory")
    with open(cfg_path) as f:
        cfg = json.load(f)
    st = os.path.join(path, "adapter_model.safetensors")
    bn = os.path.join(path, "adapter_model.bin")
    if os.path.isfile(st):
        from safetensors.torch import load_file

        state = load_file(st)
    elif os.path.isfile(bn):
        state = torch.load(bn, map_location="cpu")
    else:
        raise ValueError(f"init_from {path!r} has neither adapter_model.safetensors nor adapter_model.bin")
    return cfg, state
