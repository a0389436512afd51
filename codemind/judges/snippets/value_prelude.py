inf = float('inf')
nan = float('nan')
