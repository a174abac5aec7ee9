"""Data-parallel training on MXNet's parameter-server kvstore (dist_sync,
dist_async): the launcher that starts scheduler, servers and workers, and the
worker side (sharding, global-batch steps, metric aggregation)."""
from .launcher import Job, Role, build_job, free_port, parse_host_file, run_job, ssh_command
from .sharding import per_worker_batch, shard_dataset, shard_indices

__all__ = ["Job", "Role", "build_job", "free_port", "parse_host_file", "per_worker_batch",
           "run_job", "shard_dataset", "shard_indices", "ssh_command"]
