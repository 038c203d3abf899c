"""Qt's own texts (the OK/Cancel/Yes buttons of QMessageBox, QDialogButtonBox, QFileDialog…) in
the interface language.

GridHall's texts go through ``app.i18n.Catalogue``; the texts Qt draws itself come from Qt's
translation files (Debian package ``qttranslations5-l10n``, in
``QLibraryInfo``'s TranslationsPath). English needs none: Qt's source texts are English.
"""

from __future__ import annotations

import logging
from pathlib import Path

from qtpy.QtCore import QLibraryInfo, QTranslator

log = logging.getLogger(__name__)

#: Qt catalogues loaded for a language, in order ("qtbase" holds the standard buttons).
QT_CATALOGUES = ("qtbase",)
#: The Debian package that ships them (named in the log when they are missing).
QT_TRANSLATIONS_PACKAGE = "qttranslations5-l10n"


def qt_translations_dir() -> Path:
    """Where Qt's .qm files are installed."""
    if hasattr(QLibraryInfo, "location"):  # Qt 5
        return Path(QLibraryInfo.location(QLibraryInfo.TranslationsPath))
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))  # Qt 6


def install_qt_translations(app, language: str) -> list[QTranslator]:
    """Install Qt's translators for ``language`` ("zh_CN", "en") on ``app``; returns them (keep
    them alive as long as the application). A missing file is logged, not fatal: Qt then shows
    its English source texts."""
    if language == "en":
        return []
    folder = qt_translations_dir()
    installed = []
    for name in QT_CATALOGUES:
        translator = QTranslator(app)
        if translator.load(f"{name}_{language}", str(folder)):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            log.warning("Qt translation %s_%s.qm not found in %s (install %s): Qt's dialogs stay in English",
                        name, language, folder, QT_TRANSLATIONS_PACKAGE)
    app._gridhall_qt_translators = installed  # noqa: SLF001 - keep them referenced with the app
    return installed


__all__ = ["QT_CATALOGUES", "QT_TRANSLATIONS_PACKAGE", "install_qt_translations", "qt_translations_dir"]
