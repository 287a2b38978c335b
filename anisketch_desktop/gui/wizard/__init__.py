"""The dataset wizard: collect pictures (crawl or import), make XDoG sketches, review them, train a model.

``DatasetWizard(main_window).show()`` opens it. Pages (``folder_page``, ``crawl_page``, ``pairs_page``,
``review_page`` + ``review_model``, ``train_page``) share a ``WizardContext``; their long work is the plain
functions of ``jobs`` run by ``workers.TaskRunner``.
"""

from anisketch_desktop.gui.wizard.wizard import DatasetWizard

__all__ = ["DatasetWizard"]
