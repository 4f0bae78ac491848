"""post-incident reviews and their actions; the improvement register

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('swarm_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('contributing', sa.Text(), nullable=False),
    sa.Column('learned', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('cleared_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_reviews_board_id_boards')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_reviews_card_id_cards')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_reviews_created_by_id_users')),
    sa.ForeignKeyConstraint(['swarm_id'], ['swarms.id'], name=op.f('fk_reviews_swarm_id_swarms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('card_id', 'swarm_id', name=op.f('uq_reviews_card_id_swarm_id'))
    )
    op.create_index(op.f('ix_reviews_board_id'), 'reviews', ['board_id'])
    op.create_index(op.f('ix_reviews_card_id'), 'reviews', ['card_id'])
    op.create_table('review_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_review_actions_card_id_cards')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'],
                            name=op.f('fk_review_actions_review_id_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_actions')),
    sa.UniqueConstraint('card_id', name=op.f('uq_review_actions_card_id'))
    )
    op.create_index(op.f('ix_review_actions_review_id'), 'review_actions', ['review_id'])
    op.create_table('improvements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=14), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('blocked_reason', sa.String(length=300), nullable=True),
    sa.Column('baseline_from', sa.DateTime(), nullable=False),
    sa.Column('baseline_to', sa.DateTime(), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('after_from', sa.DateTime(), nullable=True),
    sa.Column('after_to', sa.DateTime(), nullable=True),
    sa.Column('after', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=12), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_improvements_board_id_boards')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_improvements_card_id_cards')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_improvements_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvements')),
    sa.UniqueConstraint('card_id', name=op.f('uq_improvements_card_id'))
    )
    op.create_index(op.f('ix_improvements_board_id'), 'improvements', ['board_id'])


def downgrade():
    op.drop_index(op.f('ix_improvements_board_id'), table_name='improvements')
    op.drop_table('improvements')
    op.drop_index(op.f('ix_review_actions_review_id'), table_name='review_actions')
    op.drop_table('review_actions')
    op.drop_index(op.f('ix_reviews_card_id'), table_name='reviews')
    op.drop_index(op.f('ix_reviews_board_id'), table_name='reviews')
    op.drop_table('reviews')
