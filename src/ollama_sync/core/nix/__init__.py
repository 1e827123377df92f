"""The Nix reader and writer: tree-sitter syntax tree → static evaluation → values with locations; byte-exact edits."""
