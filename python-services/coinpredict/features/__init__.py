"""Features: the TA-Lib catalogue made scale-free, the default set, labels and dataset builders."""
