"""The analysis outputs' file helpers: output files that are either complete or absent.

They are generic and live in :mod:`source.fileio` (the core layer); this module keeps the names
importable for the analysis code that writes its outputs with them.
"""

from ..fileio import CsvStream, atomic_path, check_output_folder, write_json

__all__ = ["CsvStream", "atomic_path", "check_output_folder", "write_json"]
