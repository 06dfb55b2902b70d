"""mlwarden.retrain"""
