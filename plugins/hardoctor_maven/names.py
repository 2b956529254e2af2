"""Names shared by the plugin's modules (a module of its own so that loading
the plugin imports nothing heavy: the XML parser and the rest load on the
first hook that needs them)."""

ECO = "maven"
#: ``ctx.cache`` key of the run's :class:`~hardoctor_maven.world.World`.
CACHE = "maven.world"
