"""mappa's trainer service: per-policy LoRA REINFORCE++ behind the HTTP protocol of reference/trainer-protocol.md.

Modules that need torch (model, tiny_backend, algorithm, train, policies, server) are not imported here,
so `trainer.config`, `trainer.tokenizer` and `trainer.data` load on any interpreter.
"""
