"""Data for learning: the embedded handwritten digits, MNIST from IDX files, synthetic sets, batches."""

from calcml.data.batching import batches
from calcml.data.dataset import Dataset, stratified_split
from calcml.data.digits import digits
from calcml.data.errors import DataFormatError, NotImportedError
from calcml.data.fetch import data_home, fetch_mnist
from calcml.data.idx import read_idx, write_idx
from calcml.data.mnist import mnist
from calcml.data.synthetic import Sample, linear_regression, logistic_regression, moons, spirals

__all__ = [
    "DataFormatError", "Dataset", "NotImportedError", "Sample", "batches", "data_home", "digits", "fetch_mnist",
    "linear_regression", "logistic_regression", "mnist", "moons", "read_idx", "spirals", "stratified_split",
    "write_idx",
]
