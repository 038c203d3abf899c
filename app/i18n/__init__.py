"""Message catalogues (zh_CN source strings, English on request); Qt-free, used by every edge."""

from app.i18n.catalogue import SUPPORTED_LANGUAGES, Catalogue, english_missing

__all__ = ["SUPPORTED_LANGUAGES", "Catalogue", "english_missing"]
