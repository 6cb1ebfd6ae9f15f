"""Byte tokenizer and chat template of the tiny backend (reference/trainer-protocol.md §7).

Ids 0..255 are the bytes of UTF-8 text; specials follow. The chat template is defined by the
text `TEMPLATE` below; `chat_template_sha256` is its sha256, so a template change is visible to the
runtime through /v1/info. No torch import: this module runs anywhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional, Sequence

SPECIALS = ["<|bos|>", "<|eos|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>"]
BOS, EOS, PAD, SYSTEM, USER, ASSISTANT, TOOL, END = range(256, 256 + len(SPECIALS))
ROLE_IDS = {"system": SYSTEM, "user": USER, "assistant": ASSISTANT, "tool": TOOL}

TEMPLATE = """byte-chat v1
ids: bytes 0..255, then <|bos|> <|eos|> <|pad|> <|system|> <|user|> <|assistant|> <|tool|> <|end|>
render: <|bos|>, then per message: <role special> + utf8(content) + terminator
terminator: <|eos|> after an assistant message, <|end|> after any other
tools: a system message gets "\\n\\n# Tools\\n" + json.dumps(tools, sort_keys=True) appended (one is created first if absent)
assistant tool_calls: "\\n<tool_call>" + json.dumps(call, sort_keys=True) + "</tool_call>" per call, after the content
content parts: a list of {type: "text", text} parts is joined with ""
add_generation_prompt: append <|assistant|>
"""


class ByteTokenizer:
    """UTF-8 bytes plus 8 specials; `decode` skips specials."""

    vocab_size = 256 + len(SPECIALS)
    eos_token_ids = [EOS]
    pad_token_id = PAD
    bos_token_id = BOS
    chat_template_sha256 = hashlib.sha256(TEMPLATE.encode("utf-8")).hexdigest()

    def encode(self, text: str) -> List[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(i for i in ids if 0 <= i < 256).decode("utf-8", errors="replace")

    def token_str(self, i: int) -> str:
        """One token as text: the byte (possibly a partial UTF-8 sequence, replaced) or the special's name."""
        return SPECIALS[i - 256] if i >= 256 else bytes([i]).decode("utf-8", errors="replace")

    def token_bytes(self, i: int) -> List[int]:
        return [i] if i < 256 else list(SPECIALS[i - 256].encode("utf-8"))

    def render(
        self,
        messages: Sequence[Dict[str, Any]],
        tools: Optional[Sequence[Dict[str, Any]]] = None,
        add_generation_prompt: bool = True,
    ) -> List[int]:
        msgs = [dict(m) for m in messages]
        if tools:
            tool_text = "\n\n# Tools\n" + json.dumps(list(tools), sort_keys=True)
            if msgs and msgs[0].get("role") == "system":
                msgs[0]["content"] = _content_text(msgs[0].get("content"), "messages[0].content") + tool_text
            else:
                msgs.insert(0, {"role": "system", "content": tool_text.lstrip("\n")})
        ids = [BOS]
        for i, m in enumerate(msgs):
            if not isinstance(m, dict):
                raise ValueError(f"messages[{i}] must be an object with role and content, got {type(m).__name__}")
            role = m.get("role")
            if role not in ROLE_IDS:
                raise ValueError(f"messages[{i}].role is {role!r}; use one of {sorted(ROLE_IDS)}")
            text = _content_text(m.get("content"), f"messages[{i}].content")
            for call in m.get("tool_calls") or []:
                text += "\n<tool_call>" + json.dumps(call, sort_keys=True) + "</tool_call>"
            ids.append(ROLE_IDS[role])
            ids.extend(self.encode(text))
            ids.append(EOS if role == "assistant" else END)
        if add_generation_prompt:
            ids.append(ASSISTANT)
        return ids


def _content_text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for j, p in enumerate(content):
            if not (isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)):
                raise ValueError(f"{where}[{j}] must be {{type: 'text', text: str}}; other part types are not supported")
            parts.append(p["text"])
        return "".join(parts)
    raise ValueError(f"{where} must be a string or a list of text parts, got {type(content).__name__}")
