"""Loading the school catalog from a ministry file: regions down to houses, schools,
microdistricts, last year's class-sets and teacher rosters.

The district officer verifies the school list and microdistricts and the operator keeps them
current (§15, §17); loading them from the ministry's own spreadsheet is how that starts each
year. The file format ("kattoo-catalog/1", JSON or CSV) is documented in docs/data-formats.md.

Rules of the import:
- It is an upsert keyed by natural keys (SOATE codes, street code, school code, (street, house
  number), (school, teacher PIN)), so loading the same file twice changes nothing.
- The whole file is checked before anything is written; any bad row refuses the whole file
  (``CatalogImportError``, a ``FieldError`` naming the first bad field, with every problem in
  ``problems``), so a half-loaded catalog never exists.
- A school listed in ``microdistricts`` gets exactly the lines the file gives it (§19);
  a school listed in ``class_sets`` gets exactly the class-sets the file gives it for the
  campaign (§11). Schools not listed keep theirs. Teachers are only added, never removed or
  renamed: the school keeps its roster between imports (§24). A new teacher goes through the
  roster's service (``teachers``): its PIN checked with the registry (an adult person; the
  name is the registry's), and from the quota lock on it waits for the district's approval.
  Each teacher row's outcome is reported; a registry outage refuses the whole file.
- One transaction, one audit record (§7).

The package by concept: ``file_format`` (kinds, fields, references), ``checking`` (the file into
clean rows and problems), ``writing`` (the upserts), ``report`` (counts, problems, the error),
``teachers`` (the roster's rows, §24), ``csv_format`` (the one-sheet CSV form), ``upload`` (a
file's bytes into rows), ``service`` (``catalog_import``). Quotas follow an import in
``kattoo.quotas.automatic``.
"""

from .checking import CLASS_SIZE_LIMIT, campaign_for_year, campaign_message
from .csv_format import CSV_KINDS, catalog_parse_csv
from .file_format import FORMAT, KIND_LABELS, KINDS
from .report import (
    TEACHER_OUTCOMES,
    CatalogImportError,
    ImportProblem,
    ImportReport,
    KindCount,
    TeacherOutcome,
)
from .service import catalog_import
from .teachers import teachers_precheck
from .upload import catalog_file_format, catalog_file_read

__all__ = [
    "CLASS_SIZE_LIMIT",
    "CSV_KINDS",
    "FORMAT",
    "KINDS",
    "KIND_LABELS",
    "TEACHER_OUTCOMES",
    "CatalogImportError",
    "ImportProblem",
    "ImportReport",
    "KindCount",
    "TeacherOutcome",
    "campaign_for_year",
    "campaign_message",
    "catalog_file_format",
    "catalog_file_read",
    "catalog_import",
    "catalog_parse_csv",
    "teachers_precheck",
]
