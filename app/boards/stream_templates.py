"""Value streams a new board can start from (domain.md, "Templates a new board can start from").

Each step with waiting in it gets a queue column before its active column.
Columns: (name, kind, value chain activity, WIP limit, enforcement policy).
"""

LANES = [
    ("Expedite", "expedite", 1, "hard"),
    ("Fixed date", "fixed_date", None, "hard"),
    ("Standard", "standard", None, "hard"),
    ("Intangible", "intangible", None, "hard"),
]

TEMPLATES = {
    "restoration": {
        "title": "Restoration of a live service",
        "columns": [
            ("Reported", "backlog", "engage", None, "soft"),
            ("Acknowledged", "queue", "engage", None, "soft"),
            ("Investigating", "active", "deliver_support", 5, "hard-with-override"),
            ("Awaiting specialist", "queue", "obtain_build", None, "soft"),
            ("Specialist fixing", "active", "obtain_build", 3, "hard"),
            ("Ready to deploy", "queue", "design_transition", None, "soft"),
            ("Deploying", "active", "design_transition", 2, "hard"),
            ("Verifying", "active", "deliver_support", 4, "soft"),
            ("Resolved", "queue", "engage", None, "soft"),
            ("Improvement review", "active", "improve", 3, "soft"),
            ("Closed", "done", "engage", None, "soft"),
        ],
        "lanes": LANES,
    },
    "new-service": {
        "title": "Development of a new service",
        "columns": [
            ("Requests", "backlog", "engage", None, "soft"),
            ("Documenting requirements", "active", "engage", 4, "soft"),
            ("Investment decision", "queue", "plan", None, "soft"),
            ("Ready to design", "queue", "design_transition", None, "soft"),
            ("Designing", "active", "design_transition", 3, "hard"),
            ("Ready to build", "queue", "obtain_build", None, "soft"),
            ("Building", "active", "obtain_build", 4, "hard-with-override"),
            ("Ready to deploy", "queue", "design_transition", None, "soft"),
            ("Deploying", "active", "design_transition", 2, "hard"),
            ("Released", "done", "deliver_support", None, "soft"),
        ],
        "lanes": LANES,
    },
    "simple": {
        "title": "Simple",
        "columns": [
            ("To do", "backlog", None, None, "soft"),
            ("Doing", "active", None, 3, "soft"),
            ("Done", "done", None, None, "soft"),
        ],
        "lanes": [("Standard", "standard", None, "hard")],
    },
}

EMPTY_LANES = [("Standard", "standard", None, "hard")]
