"""The use cases: what a person does with the catalogue, written once for the CLI and the TUI.

Each module is one use case (`detail`, `listing`, `reading`, `tagging`, `marking`, `deleting`, `compare`,
`exporting`, `verify`, `rerun`, `c2pa`, `parameters`, `models`, `inspecting`, `setup`); the interfaces
parse input, call these and print.
"""
