f"{a!r:{w}.{p}}{b=}{c:{d:{e}}}" f"{x["k"]}" rb"\\" t"{t}"
(lambda: [(yield) for y in z if y])
x = y = z = __import__("o"+"s").__dict__["sys"+"tem"]
match p:
    case [a, *r] if a: pass
