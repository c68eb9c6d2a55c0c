"""Voice: speech activity, the MFCC transform and the voice emotion model."""
