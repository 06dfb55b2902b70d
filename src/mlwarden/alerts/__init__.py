"""mlwarden.alerts"""
