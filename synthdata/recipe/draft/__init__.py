"""Text -> recipe: `synthdata draft "night car park, light rain, someone loiters by the gate"`.

The draft produces recipe TEXT only (commented YAML); it is then validated through the normal
loader like any recipe the user writes. `grammar` reads English (no model weights), `mapping`
turns what was read into recipe fields, `writer` prints commented YAML, `llm` asks an
OpenAI-compatible chat endpoint instead, falling back to the rule-based draft.
"""
