print("landlock-bench: placeholder")
