"""Language identification on leakycl: NLTK n-grams, feature hashing, a leaky-ReLU network."""
