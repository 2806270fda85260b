import time


def test_eats_memory():
    # Grows by 10 MiB steps until a memory ceiling stops it (about 2 GiB at most).
    chunks = []
    for _ in range(200):
        chunks.append(bytearray(10 * 1024 * 1024))
        time.sleep(0.02)
