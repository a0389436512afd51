"""The `Main` appended to a Java function program so that running it prints a call's value
(HumanEval-X's shape, and `file:PATH` Java functions): one call, or with several the call whose
number it reads from stdin. The class is text in templates/java_main*.java."""

from __future__ import annotations

from string import Template

from codemind import resources


def java_main(calls: list[str], printer: str, setup: str = "", cls: str = "Solution", static: bool = False,
              public: bool = True) -> str:
    """``calls``: Java expressions (already on the receiver: ``s.f(1)`` or ``Cls.f(1)``);
    ``printer``: how a value is printed ("{}", "java.util.Arrays.toString({})"); ``setup``:
    statements run first; ``static``: no instance ``s`` of ``cls`` is made; ``public``: the
    Main is a public class (not when the program already has one)."""
    fields = {"public": "public " if public else "", "setup": setup,
              "instance": "" if static else f"        {cls} s = new {cls}();\n"}
    if len(calls) == 1:
        main = resources.text("codemind.benchmarks", "templates/java_main.java")
        return Template(main).substitute(fields, value=printer.format(calls[0]))
    lines = resources.text("codemind.benchmarks", "templates/java_main_switch.java").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "${k}" in line)
    cases = "".join(Template(lines[at]).substitute(k=k, value=printer.format(c)) for k, c in enumerate(calls))
    return Template("".join(lines[:at])).substitute(fields) + cases + "".join(lines[at + 1:])
