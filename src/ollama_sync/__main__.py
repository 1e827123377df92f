"""`python -m ollama_sync` runs the command-line interface."""

from ollama_sync.launcher import main

if __name__ == "__main__":
    main()
