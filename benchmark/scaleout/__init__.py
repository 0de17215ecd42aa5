"""Scale-out: a run split into work units, executed by Ray actors, merged back into the normal run files.

``batch`` is the one predict step that the local runner and the Ray workers share;
``units`` splits the pending examples into units; ``shards`` writes one shard per
finished unit and merges shards into run files in example order; ``worker`` is the
actor's code (plain Python, wrapped by ``ray.remote`` only in the driver);
``cluster`` connects to Ray and sizes the workers; ``driver`` runs the units.
Nothing here imports Ray at module level: ``import benchmark`` stays light.
"""
