"""Public tests of the labs, one module per lab (``labNN_topic``).

Each module defines ``LAB`` (a :class:`dlcourse.grading.Lab`) and registers its public tests with
``@LAB.test("q1")``. Students run them with ``check("q1")``; the autograder runs them together
with the hidden tests from ``solutions/labNN_topic.ipynb``.
"""
