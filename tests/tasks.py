"""What the background worker (``manage.py db_worker``) does, inside a test's transaction: run
each queued task of one kind (the worker command itself closes the database connection, which a
test transaction cannot survive)."""

from django_tasks_db.models import DBTaskResult


def run_queued(task) -> int:
    """Run the queued calls of ``task`` and take them off the queue; how many there were."""
    queued = list(DBTaskResult.objects.filter(task_path=task.module_path))
    for result in queued:
        task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        result.delete()
    return len(queued)
