print("landlock-exec: not built yet")
