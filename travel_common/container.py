"""``LeanServiceContainer``: nameko's service container (``SERVICE_CONTAINER_CLS``
in ``compose/nameko.yml``), running each worker without nameko's debug
lines.

nameko times every stage of every worker for its debug log (five context
managers, a clock read each side, a call-id join), whatever the log level:
about a twentieth of a service's CPU per call.  The worker runs the same
steps in the same order here, and logs what nameko logs above debug.
"""

import logging
import sys

from nameko.containers import ServiceContainer as NamekoServiceContainer

# nameko's logger: the LOGGING config quietens its expected errors
log = logging.getLogger("nameko.containers")


class LeanServiceContainer(NamekoServiceContainer):
    def _run_worker(self, worker_ctx, handle_result):
        # nameko 2.14.1: ServiceContainer._run_worker, without the debug
        # lines and their timers
        self._inject_dependencies(worker_ctx)
        self._worker_setup(worker_ctx)

        result = exc_info = None
        method = getattr(worker_ctx.service, worker_ctx.entrypoint.method_name)
        try:
            result = method(*worker_ctx.args, **worker_ctx.kwargs)
        except Exception as exc:
            if isinstance(exc, worker_ctx.entrypoint.expected_exceptions):
                log.warning("(expected) error handling worker %s: %s",
                            worker_ctx, exc, exc_info=True)
            else:
                log.exception("error handling worker %s: %s", worker_ctx, exc)
            exc_info = sys.exc_info()

        if handle_result is not None:
            result, exc_info = handle_result(worker_ctx, result, exc_info)

        self._worker_result(worker_ctx, result, exc_info)
        # breaking the cycle lets it be reclaimed at once, not by the gc
        del exc_info
        self._worker_teardown(worker_ctx)
