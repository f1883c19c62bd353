"""Planning: collision-free timing of every actor's path on the navigation grid."""
