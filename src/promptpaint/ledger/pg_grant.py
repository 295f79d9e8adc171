"""``promptpaint ledger grant URL ROLE``: what a kernel that connects to a PostgreSQL ledger
directly may do — for one person or a trusted team. A class goes through the gateway
(``promptpaint gateway serve``), and students' kernels never connect to the database.

The role may read its own rows, book calls only through ``reserve()`` (which checks every cap),
settle only rows it reserved and that are still open, never above their reservation, use the
cache, and keep its own batch jobs. It cannot change a budget, delete a row, rewrite a settled
one, or touch another role's rows. Row security is per login role, so it separates people only
if each has a role of their own. The ledger's owner (the teacher, the gateway) is not subject to
it.
"""

from __future__ import annotations


def statements(sql, schema: str, role: str, most_nanos: int) -> list:
    """The statements, composed with psycopg's ``sql`` module (identifiers quoted)."""
    s, r = sql.Identifier(schema), sql.Identifier(role)
    mine = "role = current_user"
    out = [
        sql.SQL("GRANT USAGE ON SCHEMA {s} TO {r}"),
        # counted: the class's running total, which allowance() and the Studio read.
        sql.SQL("GRANT SELECT ON {s}.calls, {s}.budgets, {s}.schema_version, {s}.counted, {s}.rates TO {r}"),
        sql.SQL("GRANT EXECUTE ON FUNCTION {s}.reserve TO {r}"),  # its only way to add a row
        sql.SQL("GRANT UPDATE (status, cost_nanos, reported_nanos, usage, request_id, images, duration, error,"
                " reserved_until) ON {s}.calls TO {r}"),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON {s}.cache TO {r}"),
        # Batch jobs (migration 5): a kernel records its jobs and claims and books their lines.
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON {s}.batch_jobs, {s}.batch_lines TO {r}"),
        sql.SQL("ALTER TABLE {s}.calls ENABLE ROW LEVEL SECURITY"),
        sql.SQL("DROP POLICY IF EXISTS kernel_read ON {s}.calls"),
        sql.SQL("DROP POLICY IF EXISTS kernel_settle ON {s}.calls"),
        sql.SQL(f"CREATE POLICY kernel_read ON {{s}}.calls FOR SELECT USING ({mine})"),
        sql.SQL(f"CREATE POLICY kernel_settle ON {{s}}.calls FOR UPDATE USING (status = 'reserved' AND {mine})"
                f" WITH CHECK (status <> 'reserved' AND {mine} AND (cost_nanos IS NULL OR"
                f" cost_nanos <= COALESCE(reserved_nanos, {most_nanos}) OR"
                # A collected batch line reserves $0 (its job's row holds the worst case).
                f" (cost_nanos <= {most_nanos} AND EXISTS (SELECT 1 FROM {schema}.batch_lines b"
                f" WHERE b.ledger_row = id))))"),
    ]
    for table in ("batch_jobs", "batch_lines"):
        out += [
            sql.SQL("ALTER TABLE {s}.{t} ENABLE ROW LEVEL SECURITY"),
            sql.SQL("DROP POLICY IF EXISTS kernel_own ON {s}.{t}"),
            sql.SQL(f"CREATE POLICY kernel_own ON {{s}}.{{t}} FOR ALL USING ({mine}) WITH CHECK ({mine})"),
        ]
        out[-3:] = [stmt.format(s=s, r=r, t=sql.Identifier(table)) for stmt in out[-3:]]
    return [stmt if isinstance(stmt, sql.Composed) else stmt.format(s=s, r=r) for stmt in out]
