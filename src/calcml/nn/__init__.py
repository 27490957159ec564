"""Layers, activations, losses and initializers built on calcml's engine (``cm.nn``)."""

from calcml.nn import init, losses
from calcml.nn.activations import (
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from calcml.nn.containers import Sequential
from calcml.nn.conv import Conv2d, convolve2d
from calcml.nn.dropout import Dropout, dropout
from calcml.nn.flatten import Flatten, flatten
from calcml.nn.linear import Linear
from calcml.nn.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    MAELoss,
    MSELoss,
    MultiMarginLoss,
)
from calcml.nn.module import Module, parameter
from calcml.nn.neural_ode import NeuralODE
from calcml.nn.pooling import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d
from calcml.nn.recurrent import LSTM, RNN

__all__ = [
    "AvgPool2d", "BCEWithLogitsLoss", "Conv2d", "CrossEntropyLoss", "Dropout", "Flatten", "HingeLoss",
    "HuberLoss", "L1Loss", "LSTM", "LeakyReLU", "LogSoftmax", "Linear", "MAELoss", "MSELoss", "MaxPool2d",
    "Module", "MultiMarginLoss", "NeuralODE", "RNN", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "avg_pool2d", "convolve2d", "dropout", "flatten", "init", "leaky_relu", "log_softmax", "losses",
    "max_pool2d", "parameter", "relu", "sigmoid", "softmax", "softplus", "tanh",
]
