"""The web UI: ``build_app(qa)`` (Gradio Blocks) and the escaping renderers it uses.

Kept out of ``rag/__init__`` so the library does not import Gradio.
"""

from .app import ChatApp, build_app, launch_options

__all__ = ["ChatApp", "build_app", "launch_options"]
