"""The ministry's audit viewer (§7): filters and keyset pages over the trail, the CSV export,
applicants' user names masked, and the ministry administrator's audited reveal.

It sits above catalog (the district filter reads the district's schools) and accounts (only a
ministry administrator reveals), while ``kattoo.audit`` — the trail itself, ``audit_record``
and the sealed chain — stays at the bottom, where every app can write to it."""
