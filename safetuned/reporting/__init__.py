"""Sweep reporting, in the order a report is built: `collect` (a sweep's jobs from its folder), `metrics` (metric
families and intervals), `tables` (job and seed tables, `summarize_sweep`), `paired` (paired tests against the N=0
job), `plots` (plot data) and `draw` (matplotlib), `render` (csv, md, HTML from `templates/`), `wandb`.
"""
