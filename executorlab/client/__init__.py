"""The kernel side: finding or starting the bridge, and the connection that carries tasks to it."""
