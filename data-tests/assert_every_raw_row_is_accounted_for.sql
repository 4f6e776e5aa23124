-- Nothing lost (docs/landing-contract.md): every raw row is either the staged (possibly quarantined) version of
-- its key or an older version / duplicate of a staged key. Returns the unbalanced tables.
select
    source,
    table_name,
    raw_rows,
    staged_rows,
    duplicates_removed,
    quarantined_rows
from {{ ref('stg_row_accounting') }}
where not is_balanced
