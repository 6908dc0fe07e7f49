"""The commands beyond validate and scan (those are ``rayfleet.pipeline``): each gathers its
subjects (rendering, or reading a live API through an adapter), runs its policies through
``rayfleet.runner`` and returns a ``Result``."""
