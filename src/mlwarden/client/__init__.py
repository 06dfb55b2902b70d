"""mlwarden.client"""
