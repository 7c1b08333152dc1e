print("landlock-probe: not built yet")
