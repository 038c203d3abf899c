"""Source scans that keep every user-visible text in the message catalogue (used by the tests)."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u4e00-\u9fff]")

#: Qt calls that put text on the screen: a Chinese literal here must come from the catalogue.
SHOWN = frozenset({
    "setText", "setWindowTitle", "setToolTip", "setStatusTip", "setWhatsThis", "setPlaceholderText",
    "addItem", "addItems", "insertItem", "setItemText", "addTab", "insertTab", "setTabText", "setTabToolTip",
    "setTitle", "setHorizontalHeaderLabels", "setVerticalHeaderLabels", "setHeaderLabels", "showMessage",
    "setLabelText", "setSuffix", "setPrefix", "setSpecialValueText", "addAction", "addMenu", "setHtml",
    "setPlainText", "QLabel", "QPushButton", "QToolButton", "QCheckBox", "QRadioButton", "QGroupBox",
    "QAction", "QMenu", "QListWidgetItem", "QTreeWidgetItem", "QTableWidgetItem", "QStandardItem",
    "information", "warning", "critical", "question", "about", "getOpenFileName", "getOpenFileNames",
    "getSaveFileName", "getExistingDirectory", "QMessageBox", "showText",
})
#: Error classes whose message the user reads: a Chinese text must be a Msg (id + parameters).
ERROR_CALL = re.compile(r"(Error|Denied|NotFound|Transition|StaleCase|Missing|Outdated|Unreachable|"
                        r"Unavailable|NotWritable)$")


def callee(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def python_files(*folders: str) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def _chinese_literal(node: ast.AST) -> bool:
    """A str constant or f-string with Chinese text of its own (not text inside a nested call)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(HAN.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_chinese_literal(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _chinese_literal(node.left) or _chinese_literal(node.right)
    if isinstance(node, ast.IfExp):
        return _chinese_literal(node.body) or _chinese_literal(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_chinese_literal(e) for e in node.elts)
    return False


def msg_ids(source: str, path: Path) -> dict[str, str]:
    """Literal ids of ``Msg("…")`` calls (id -> first place)."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and callee(node) == "Msg" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.setdefault(node.args[0].value, where(path, node))
    return found


def msg_problems(source: str, path: Path) -> list[str]:
    """``Msg`` given an f-string or a computed id: its text could never be in the catalogue."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and callee(node) == "Msg" and node.args
                and isinstance(node.args[0], ast.JoinedStr)):
            bad.append(f"{where(path, node)}: Msg() given an f-string (use Msg('…{{x}}…', x=…))")
    return bad


def untranslated_errors(source: str, path: Path) -> list[str]:
    """Error constructors given Chinese text built on the spot (an f-string, a concatenation)
    instead of a Msg: such a text can never be looked up. A constant text is its own id
    (see ``error_constants``)."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ERROR_CALL.search(callee(node) or ""):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if not isinstance(arg, ast.Constant) and _chinese_literal(arg):
                    bad.append(f"{where(path, node)}: {callee(node)}({ast.unparse(arg)[:60]}…) needs Msg(…)")
    return bad


def error_constants(source: str, path: Path) -> dict[str, str]:
    """Constant Chinese texts given to error constructors (each is a message id): text -> place."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ERROR_CALL.search(callee(node) or ""):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Constant) and _chinese_literal(arg):
                    found.setdefault(arg.value, where(path, node))
    return found


def _inside_tr(tree: ast.AST) -> set[int]:
    """ids of nodes that are arguments (at any depth) of tr()/label()/text()/error() calls."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and callee(node) in {"tr", "text", "error", "label", "Msg", "label_of"}:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                inside.update(id(n) for n in ast.walk(arg))
    return inside


def shown_untranslated(source: str, path: Path) -> list[str]:
    """Chinese literals handed to a Qt call that shows them, without passing through the catalogue."""
    tree = ast.parse(source)
    inside = _inside_tr(tree)
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or callee(node) not in SHOWN:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if id(arg) not in inside and _chinese_literal(arg):
                bad.append(f"{where(path, node)}: {callee(node)}({ast.unparse(arg)[:60]})")
    return bad


def qml_legend_labels(folder: Path | None = None) -> dict[str, str]:
    """Legend labels of the QML styles (rule and category labels): label -> file."""
    labels: dict[str, str] = {}
    for path in sorted((folder or ROOT / "resources" / "styles").glob("*.qml")):
        for element in ET.parse(path).getroot().iter():
            if element.tag in {"rule", "category"} and element.get("label"):
                labels.setdefault(element.get("label"), path.name)
    return labels


LOG_CALLS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)):
            found.add(id(node.body[0].value))
    return found


def _inside(tree: ast.AST, names: frozenset[str] | set[str]) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and callee(node) in names:
            found.update(id(n) for n in ast.walk(node))
    return found


def interface_literals(source: str, path: Path) -> tuple[dict[str, str], list[str]]:
    """Chinese string constants of interface code (not docstrings or log lines): text -> place;
    and the places of Chinese f-strings built outside tr()/Msg() (text no catalogue can hold)."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _inside(tree, LOG_CALLS)
    in_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            in_fstring.update(id(n) for n in ast.walk(node) if n is not node)
    translated = _inside(tree, {"tr", "Msg"})
    texts: dict[str, str] = {}
    fstrings: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and HAN.search(node.value) \
                and id(node) not in in_fstring:
            texts.setdefault(node.value, where(path, node))
        elif isinstance(node, ast.JoinedStr) and id(node) not in translated and _chinese_literal(node):
            fstrings.append(f"{where(path, node)}: {ast.unparse(node)[:70]}")
    return texts, fstrings
