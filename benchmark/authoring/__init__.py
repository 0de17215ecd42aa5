"""Tools that write task folders: ``scaffold`` (``bench new-task``) and ``hf`` (Dynamic-SUPERB import/export).

Both write through ``benchmark.task.writer``, the one writer of task folders.
"""
