"""What an analysis is once made, whoever made it (``analyze``, a research model's ``predict``):
the typed window records (``records``), one writer per file format (``writers``; the plots in
``plots``, the transcript in ``text.writers``), the colours and marked spans every view shares
(``palette``) and the summary of a run's windows (``summary``)."""
