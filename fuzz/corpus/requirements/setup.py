from setuptools import setup

# never run by the scanner: read as text
REQUIRED = [
    'joblib==1.1.0',
    "nltk>=3.8",
]

setup(
    name='model-helpers',
    install_requires=REQUIRED,
    extras_require={'gguf': ['llama-cpp-python==0.2.71'], 'dev': [f'pytest']},
)
