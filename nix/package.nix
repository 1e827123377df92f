# ollama-sync, built with nixpkgs' Python tooling (pyproject build, setuptools backend).
{ lib, python3Packages }:

python3Packages.buildPythonApplication {
  pname = "ollama-sync";
  version = "0.1.0";
  pyproject = true;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [ ../pyproject.toml ../README.md ../src ];
  };

  build-system = [ python3Packages.setuptools ];

  dependencies = with python3Packages; [
    click
    rich
    tomlkit
    tree-sitter
    tree-sitter-grammars.tree-sitter-nix
    psutil
    watchfiles
    ollama
  ];

  # The test suite needs supervisord, plistutil and systemd-analyze; it runs in the project's CI, not here.
  doCheck = false;
  pythonImportsCheck = [ "ollama_sync" ];

  meta = {
    description = "Declarative, verified and safe Ollama server services";
    license = lib.licenses.mit;
    mainProgram = "ollama-sync";
    platforms = lib.platforms.darwin ++ lib.platforms.linux;
  };
}
