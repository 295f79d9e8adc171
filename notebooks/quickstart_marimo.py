import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # promptpaint quickstart (marimo)

    Type a prompt and press **Generate**. Paint over part of the picture with the brush, type
    what should change there and press **Edit**: only the painted area changes. The cost of every
    call shows under the picture, and the ledger keeps the total across restarts.

    With no API key this runs on the **offline stand-in**: placeholder pictures drawn on your
    machine, no network, $0. Set `GEMINI_API_KEY` or `OPENAI_API_KEY` before starting marimo
    to use a real model.
    """)
    return


@app.cell
def _():
    import marimo as mo

    import promptpaint as pp

    return mo, pp


@app.cell
def _(mo, pp):
    # marimo shows an anywidget through mo.ui.anywidget; the Studio is the same as in Jupyter.
    studio = mo.ui.anywidget(pp.Studio())
    studio
    return


@app.cell
def _(mo):
    mo.md(r"""
    The widget and Python drive the same engine: `studio.widget` is the `pp.Studio`.
    A result shows itself as a small picture with its model and cost, and `pp.ledger()` as a
    table of what has been spent.
    """)
    return


@app.cell
def _(pp):
    pp.ledger()
    return


if __name__ == "__main__":
    app.run()
