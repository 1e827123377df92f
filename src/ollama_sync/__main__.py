"""`python -m ollama_sync` runs the command-line interface."""

from ollama_sync.cli import main

if __name__ == "__main__":
    main()
