"""Generating, arranging and animating samples."""
