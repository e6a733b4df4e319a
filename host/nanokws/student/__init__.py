"""The tiny student: Keras DS-CNN models on 49x10 MFCC, trained with knowledge distillation."""
