"""The directory service: the union tree (units, moves, merges), members and officials' roles."""

SERVICE = "directory"
